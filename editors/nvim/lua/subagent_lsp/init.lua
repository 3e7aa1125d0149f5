-- subagent-lsp for Neovim: the server configuration and the :SubagentAsk / :SubagentExplain commands.
local M = {}

M.name = "subagent_lsp"

M.default_config = {
  cmd = { "subagent-lsp" },
  filetypes = { "typescript", "typescriptreact", "markdown" },
  root_markers = { "package.json", ".claude", ".git" },
}

local function client_for(bufnr)
  local clients = vim.lsp.get_clients({ bufnr = bufnr, name = M.name })
  if #clients == 0 then
    vim.notify("subagent-lsp is not attached to this buffer", vim.log.levels.ERROR)
    return nil
  end
  return clients[1]
end

-- The range of a command: the lines it was given, or the cursor (an empty range) without one.
local function range_params(opts, bufnr, client)
  if opts.range and opts.range > 0 then
    local last = vim.api.nvim_buf_get_lines(bufnr, opts.line2 - 1, opts.line2, false)[1] or ""
    return vim.lsp.util.make_given_range_params(
      { opts.line1, 0 },
      { opts.line2, math.max(#last - 1, 0) },
      bufnr,
      client.offset_encoding
    )
  end
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.range["end"] = params.range.start
  return params
end

local function execute(client, bufnr, command, argument, on_done)
  client:request("workspace/executeCommand", {
    command = command,
    arguments = argument and { argument } or nil,
  }, function(err, result)
    if err then
      vim.notify("subagent-lsp: " .. (err.message or tostring(err)), vim.log.levels.ERROR)
      return
    end
    if on_done then
      on_done(result)
    end
  end, bufnr)
end

-- Pick an agent with vim.ui.select when there is more than one, then continue with its name.
function M.with_agent(client, bufnr, continue)
  execute(client, bufnr, "subagent-lsp.listAgents", nil, function(agents)
    agents = agents or {}
    if #agents <= 1 then
      continue(agents[1] and agents[1].name or nil)
      return
    end
    vim.ui.select(agents, {
      prompt = "Agent",
      format_item = function(agent)
        return agent.name .. " — " .. (agent.description or "")
      end,
    }, function(choice)
      if choice then
        continue(choice.name)
      end
    end)
  end)
end

function M.ask(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  local instruction = vim.trim(opts.args or "")
  if not client then
    return
  end
  if instruction == "" then
    vim.notify("Usage: :[range]SubagentAsk {instruction}", vim.log.levels.WARN)
    return
  end
  local params = range_params(opts, bufnr, client)
  M.with_agent(client, bufnr, function(agent)
    execute(client, bufnr, "subagent-lsp.ask", {
      uri = params.textDocument.uri,
      range = params.range,
      instruction = instruction,
      agent = agent,
    })
  end)
end

function M.explain()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  execute(client, bufnr, "subagent-lsp.explain", {
    uri = params.textDocument.uri,
    position = params.position,
  }, function(result)
    if result and result.markdown then
      vim.lsp.util.open_floating_preview(vim.split(result.markdown, "\n"), "markdown", { border = "rounded" })
    end
  end)
end

return M
