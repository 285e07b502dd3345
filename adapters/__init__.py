"""Adapters: one module per place alerts go. Each implements bot.deliver.dispatcher.Adapter."""
