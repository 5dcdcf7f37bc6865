"""AMI: events and actions on Asterisk's manager interface (panoramisk underneath)."""
