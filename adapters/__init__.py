"""Adapters: one module per place alerts go. Each implements bot.dispatch.Adapter."""
