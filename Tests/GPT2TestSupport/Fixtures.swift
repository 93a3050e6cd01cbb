// GPT2TestSupport — fixtures and reference helpers for tests.
