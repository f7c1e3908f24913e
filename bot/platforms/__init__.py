"""Platform adapters: each turns its platform's input into neutral events and renders messages."""
