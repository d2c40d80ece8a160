"""Governance: records, dual reporting lines and transparency for working groups."""

import os

# Piccolo finds its engine and apps through this module, whatever the working directory.
os.environ.setdefault("PICCOLO_CONF", "governance.piccolo_conf")
