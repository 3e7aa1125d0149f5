-- subagent-lsp for Neovim: the server configuration and the :SubagentAsk / :SubagentExplain commands.
local M = {}

M.name = "subagent_lsp"

-- The repository first: a monorepo keeps its agents in `.claude/agents` at the top, while every
-- package below it has a package.json of its own, and the server reads agents from the root only.
-- Markers in one list are equally near; a later list counts only when no earlier one is found.
M.root_markers = { { ".claude", ".git" }, { "package.json", "tsconfig.json" } }

-- The workspace folder for files in `dir`, or nil (the server then takes the file's project).
-- vim.fs.find checks every name of a list in each folder on the way up, on every Neovim 0.11;
-- nested `root_markers` do the same only from 0.11.3.
function M.root(dir)
  for _, markers in ipairs(M.root_markers) do
    local found = vim.fs.find(markers, { upward = true, path = dir, limit = 1 })[1]
    if found then
      return vim.fs.dirname(found)
    end
  end
  return nil
end

-- Hover facts come at once and the explanation later: show the hover again when it lands, if
-- the cursor is still on that code in that buffer.
local function explanation_ready(_, params)
  local bufnr = vim.api.nvim_get_current_buf()
  if not params or vim.uri_from_bufnr(bufnr) ~= params.uri then
    return
  end
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local start, finish = params.range.start, params.range["end"]
  local line = row - 1
  local after_start = line > start.line or (line == start.line and col >= start.character)
  local before_end = line < finish.line or (line == finish.line and col <= finish.character)
  if after_start and before_end then
    vim.lsp.buf.hover()
  end
end

-- For vim.lsp.config (lsp/subagent_lsp.lua).
M.config = {
  cmd = { "subagent-lsp" },
  filetypes = { "typescript", "typescriptreact", "markdown" },
  handlers = { ["subagent-lsp/explanationReady"] = explanation_ready },
  root_dir = function(bufnr, on_dir)
    local name = vim.api.nvim_buf_get_name(bufnr)
    -- As vim.fs.root does: a buffer without a file starts from the current directory.
    local file = name ~= "" and vim.bo[bufnr].buftype == ""
    on_dir(M.root(file and vim.fs.dirname(name) or vim.uv.cwd()))
  end,
}

-- For nvim-lspconfig's setup(), whose root_dir gets the file name and returns the folder.
M.default_config = {
  cmd = M.config.cmd,
  filetypes = M.config.filetypes,
  handlers = M.config.handlers,
  root_dir = function(fname)
    return M.root(vim.fs.dirname(fname))
  end,
  single_file_support = true,
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
