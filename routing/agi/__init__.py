"""FastAGI: the dialplan asks the service for each step of a call over a TCP connection."""
