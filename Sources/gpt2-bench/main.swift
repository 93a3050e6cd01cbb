print("gpt2-bench: not yet implemented")
