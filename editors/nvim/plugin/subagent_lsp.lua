if vim.g.loaded_subagent_lsp then
  return
end
vim.g.loaded_subagent_lsp = true

local function plugin()
  return require("subagent_lsp")
end

vim.api.nvim_create_user_command("SubagentAsk", function(opts)
  plugin().ask(opts)
end, { nargs = "*", range = true, desc = "Ask a Claude Code agent to change the selected code" })

vim.api.nvim_create_user_command("SubagentExplain", function()
  plugin().explain()
end, { desc = "Explain the code under the cursor with the agent" })

vim.api.nvim_create_user_command("SubagentCancel", function()
  plugin().cancel()
end, { desc = "Stop the running agent" })

vim.api.nvim_create_user_command("SubagentAccept", function()
  plugin().accept()
end, { desc = "Apply the agent's change under review" })

vim.api.nvim_create_user_command("SubagentDiscard", function()
  plugin().discard()
end, { desc = "Discard the agent's change under review" })

-- The server's progress, for require("subagent_lsp").status() and the echo area.
vim.api.nvim_create_autocmd("LspProgress", {
  group = vim.api.nvim_create_augroup("subagent_lsp_progress", { clear = true }),
  callback = function(event)
    local client = vim.lsp.get_client_by_id(event.data.client_id)
    if client and client.name == plugin().name then
      require("subagent_lsp.progress").on_progress(client.id, event.data.params)
    end
  end,
})
