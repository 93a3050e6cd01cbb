print("gpt2ctl: not yet implemented")
