// GPT2Systemd — placeholder until its first component lands.
