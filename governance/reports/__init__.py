"""Reports and recommendations, their deliveries along both lines, and each line's response."""
