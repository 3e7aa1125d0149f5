-- Neovim 0.11+: picked up by vim.lsp.config("subagent_lsp") / vim.lsp.enable("subagent_lsp").
return require("subagent_lsp").config
