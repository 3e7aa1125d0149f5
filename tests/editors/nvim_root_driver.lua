-- Opens one file in real headless Neovim through the plugin, as a user would, and records the
-- client's root and the agents the server lists there. The result is written as JSON to $RESULT.
local result = {}

local function wait_for(what, predicate)
  if not vim.wait(20000, predicate, 20) then
    error("timed out waiting for " .. what)
  end
end

local ok, err = pcall(function()
  vim.opt.rtp:prepend(os.getenv("PLUGIN_DIR"))
  vim.cmd("filetype on")
  vim.lsp.config("subagent_lsp", { cmd = { os.getenv("PYTHON"), "-m", "subagent_lsp" } })
  vim.lsp.enable("subagent_lsp")

  vim.cmd.edit(os.getenv("OPEN_FILE"))
  wait_for("the client to attach", function()
    return #vim.lsp.get_clients({ bufnr = 0, name = "subagent_lsp" }) > 0
  end)
  local client = vim.lsp.get_clients({ bufnr = 0, name = "subagent_lsp" })[1]
  wait_for("initialization", function()
    return client.initialized
  end)
  result.root_dir = client.root_dir
  result.workspace_folders = vim.tbl_map(function(folder)
    return folder.name
  end, client.workspace_folders or {})

  local response = client:request_sync(
    "workspace/executeCommand",
    { command = "subagent-lsp.listAgents" },
    20000,
    0
  )
  assert(response and not response.err, vim.inspect(response))
  result.agents = vim.tbl_map(function(agent)
    return agent.name
  end, response.result or {})
end)

result.error = not ok and tostring(err) or nil
local file = assert(io.open(os.getenv("RESULT"), "w"))
file:write(vim.json.encode(result))
file:close()
vim.cmd("qa!")
