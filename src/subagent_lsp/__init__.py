"""subagent-lsp: Claude Code agents as code actions and hovers in TypeScript backends."""

__version__ = "0.1.0"
