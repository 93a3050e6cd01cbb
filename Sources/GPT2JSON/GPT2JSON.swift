// GPT2JSON — placeholder until its first component lands.
