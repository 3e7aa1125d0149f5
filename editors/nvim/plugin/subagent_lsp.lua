if vim.g.loaded_subagent_lsp then
  return
end
vim.g.loaded_subagent_lsp = true

vim.api.nvim_create_user_command("SubagentAsk", function(opts)
  require("subagent_lsp").ask(opts)
end, { nargs = "+", range = true, desc = "Ask a Claude Code agent to change the selected code" })

vim.api.nvim_create_user_command("SubagentExplain", function()
  require("subagent_lsp").explain()
end, { desc = "Explain the code under the cursor with the agent" })
