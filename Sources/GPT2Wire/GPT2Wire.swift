// GPT2Wire — placeholder until its first component lands.
