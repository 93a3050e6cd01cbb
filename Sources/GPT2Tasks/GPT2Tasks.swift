// GPT2Tasks — placeholder until the task heads land.
