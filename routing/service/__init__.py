"""The running service: carries out the policy engine's decisions through Asterisk."""
