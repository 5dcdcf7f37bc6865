"""ARI, Asterisk's REST interface and its events WebSocket (#13): the switchboard's live call
control. An adapter: the policy never imports it; AMI stays for device states and AstDB."""
