// GPT2Client — placeholder until the client lands.
