// GPT2Daemon
