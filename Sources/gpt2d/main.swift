// gpt2d entry point — see GPT2Daemon.
