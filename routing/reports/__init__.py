"""Reports for telephone officers and auditors: accessibility over a period (R19, R20), the
yearly review of mobiles (R19), and the accessibility report as one HTML page."""
