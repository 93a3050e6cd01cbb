// GPT2Tokenizer — placeholder until its first component lands.
