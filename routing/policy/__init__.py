"""The policy engine: pure decisions, no I/O. Every rule of the telephone policy lives here.

Import from the modules themselves. The policy reads the config's types (routing.config);
the config never imports the policy, and nothing here imports an adapter.

Where each rule is decided:
- R1 ring limit ............................. ring_limit.py (every Ring step's timeout)
- R2/R3 answers and the fallback chain ...... fallback.py, flow.py (outcomes, last resort)
- R4 callback offer ......................... fallback.py (hidden callers get voicemail)
- R6–R9 working and telephone hours ......... hours.py, planner.py (announcements, duty phone)
- R10 telephone officer ..................... config/crosschecks.py (every unit has one)
- R11/R15 referral, mobile number told ...... referral.py, planner.py
- R14 forwarding to mobile needs approval ... mobile.py
"""
