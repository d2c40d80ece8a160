"""Running the service: backups and restores, personal data, the operations status page."""
