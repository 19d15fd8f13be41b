"""The broker proper: what the hub does with each message class."""
