-- The user's init.lua in the real-Neovim tests: the plugin from $PLUGIN_DIR, the server from
-- $PYTHON, and the plugin's status in the statusline. Nothing else: Neovim's own defaults.
vim.opt.rtp:prepend(os.getenv("PLUGIN_DIR"))
vim.cmd("filetype on")
vim.o.laststatus = 2
vim.o.statusline = "%f %= %{v:lua.require'subagent_lsp'.status()} "
vim.lsp.config("subagent_lsp", { cmd = { os.getenv("PYTHON"), "-m", "subagent_lsp" } })
vim.lsp.enable("subagent_lsp")
