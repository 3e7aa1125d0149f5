-- subagent-lsp for Neovim: the server configuration, the commands, and how results are shown.
local progress = require("subagent_lsp.progress")
local review = require("subagent_lsp.review")
local ui = require("subagent_lsp.ui")

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

local LEVELS = {
  [1] = vim.log.levels.ERROR,
  [2] = vim.log.levels.WARN,
  [3] = vim.log.levels.INFO,
  [4] = vim.log.levels.DEBUG,
  [5] = vim.log.levels.DEBUG,
}
local REQUEST_CANCELLED = -32800

-- Requests the plugin is waiting on, by client: the server also says their result in a message,
-- which the plugin drops so that each result is said once, from the answer.
local answering = {}

local function execute(client, bufnr, command, arguments, on_done)
  answering[client.id] = (answering[client.id] or 0) + 1
  local untrack
  local sent, request_id = client:request("workspace/executeCommand", {
    command = command,
    arguments = arguments,
  }, function(err, result)
    answering[client.id] = (answering[client.id] or 1) - 1
    if untrack then
      untrack()
    end
    if err then
      if err.code == REQUEST_CANCELLED then
        ui.notify("Cancelled.")
      else
        ui.notify("subagent-lsp: " .. (err.message or tostring(err)), vim.log.levels.ERROR)
      end
      return
    end
    if on_done then
      on_done(result)
    end
  end, bufnr)
  if sent then
    untrack = progress.track(client.id, request_id)
  else
    answering[client.id] = answering[client.id] - 1
  end
end

-- Say the outcome of an action, ask, accept or discard once. A proposal says nothing here: its
-- preview is the message.
local function report(result)
  if type(result) ~= "table" or result.pending or not result.message or result.message == "" then
    return
  end
  local fine = result.applied or result.discarded or result.review or result.message == "Cancelled."
  ui.notify(result.message, fine and vim.log.levels.INFO or vim.log.levels.WARN)
end

local function answer_review(client, command, id)
  execute(client, nil, command, { id }, report)
end

-- Edits land without the "Workspace edit" line Neovim prints, out of Visual mode, drawn at once.
local function apply_edit(_, params, ctx)
  local client = assert(vim.lsp.get_client_by_id(ctx.client_id))
  ui.leave_visual()
  local created = {}
  for _, change in ipairs(params.edit.documentChanges or {}) do
    if change.kind == "create" then
      table.insert(created, change.uri)
    end
  end
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, params.edit, client.offset_encoding)
  -- A new file's text "x\n" inserted into its empty buffer leaves an empty last line, which
  -- would be written as a second newline: in Neovim the final newline is the buffer's 'eol'.
  for _, uri in ipairs(ok and created or {}) do
    local bufnr = vim.uri_to_bufnr(uri)
    local count = vim.api.nvim_buf_line_count(bufnr)
    if count > 1 and vim.api.nvim_buf_get_lines(bufnr, count - 1, count, false)[1] == "" then
      vim.api.nvim_buf_set_lines(bufnr, count - 1, count, false, {})
    end
  end
  vim.cmd.redraw()
  return { applied = ok, failureReason = not ok and tostring(err) or nil }
end

local function show_message(_, params, ctx)
  if (answering[ctx.client_id] or 0) > 0 then
    return vim.NIL
  end
  ui.notify(params.message, LEVELS[params.type])
  return vim.NIL
end

local function review_edit(_, params, ctx)
  review.show(params, ctx.client_id, answer_review)
end

local function open_explanation(result)
  vim.api.nvim_echo({ { "" } }, false, {})
  if not result then
    return
  end
  if result.markdown and result.markdown ~= vim.NIL then
    vim.lsp.util.open_floating_preview(vim.split(result.markdown, "\n"), "markdown", { border = "rounded" })
  elseif result.error and result.error ~= vim.NIL then
    ui.notify(result.error, vim.log.levels.ERROR)
  end
end

-- Commands of the server's code actions, run by the plugin so it can leave Visual mode at once,
-- cancel them and say their result once.
local commands = {
  ["subagent-lsp.runAction"] = function(command, ctx)
    ui.leave_visual()
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then
      execute(client, ctx.bufnr, command.command, command.arguments, report)
    end
  end,
  ["subagent-lsp.explain"] = function(command, ctx)
    ui.leave_visual()
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then
      ui.note("subagent-lsp: explaining…")
      execute(client, ctx.bufnr, command.command, command.arguments, open_explanation)
    end
  end,
}

-- For vim.lsp.config (lsp/subagent_lsp.lua).
M.config = {
  cmd = { "subagent-lsp" },
  filetypes = { "typescript", "typescriptreact", "markdown" },
  -- The server sends this client an agent's change to review before it lands.
  capabilities = { experimental = { subagentLsp = { reviewEdits = true } } },
  commands = commands,
  handlers = {
    ["subagent-lsp/explanationReady"] = explanation_ready,
    ["subagent-lsp/reviewEdit"] = review_edit,
    ["window/showMessage"] = show_message,
    ["workspace/applyEdit"] = apply_edit,
  },
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
  capabilities = M.config.capabilities,
  commands = M.config.commands,
  handlers = M.config.handlers,
  root_dir = function(fname)
    return M.root(vim.fs.dirname(fname))
  end,
  single_file_support = true,
}

local function client_for(bufnr)
  local clients = vim.lsp.get_clients({ bufnr = bufnr, name = M.name })
  if #clients == 0 then
    ui.notify("subagent-lsp is not attached to this buffer", vim.log.levels.ERROR)
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

-- The agent picked last in :SubagentAsk, offered first next time.
M.last_agent = nil

local function describe(agent)
  local text = agent.name .. (agent.default and " (default)" or "")
  local description = type(agent.description) == "string" and vim.trim(agent.description) or ""
  description = description:match("^(.-%.)%s") or description
  if description ~= "" then
    if vim.fn.strchars(description) > 70 then
      description = vim.fn.strcharpart(description, 0, 69) .. "…"
    end
    text = text .. " — " .. description
  end
  return text
end

-- Pick an agent with vim.ui.select when there is more than one, then continue with its name:
-- the last one picked first, then the default, then the rest as the server lists them.
function M.with_agent(client, bufnr, continue)
  execute(client, bufnr, "subagent-lsp.listAgents", nil, function(agents)
    agents = agents or {}
    if #agents <= 1 then
      continue(agents[1] and agents[1].name or nil)
      return
    end
    local function rank(agent)
      if agent.name == M.last_agent then
        return 0
      end
      return agent.default and 1 or 2
    end
    local ordered = {}
    for index, agent in ipairs(agents) do
      table.insert(ordered, { agent = agent, rank = rank(agent), index = index })
    end
    table.sort(ordered, function(a, b)
      if a.rank ~= b.rank then
        return a.rank < b.rank
      end
      return a.index < b.index
    end)
    vim.ui.select(
      vim.tbl_map(function(item)
        return item.agent
      end, ordered),
      { prompt = "Agent", kind = "subagent_lsp.agent", format_item = describe },
      function(choice)
        if choice then
          M.last_agent = choice.name
          continue(choice.name)
        end
      end
    )
  end)
end

-- :[range]SubagentAsk [instruction]: without one, vim.ui.input asks for it once the agent is known.
function M.ask(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return
  end
  local params = range_params(opts, bufnr, client)
  local instruction = vim.trim(opts.args or "")
  M.with_agent(client, bufnr, function(agent)
    local function run(text)
      execute(client, bufnr, "subagent-lsp.ask", {
        { uri = params.textDocument.uri, range = params.range, instruction = text, agent = agent },
      }, report)
    end
    if instruction ~= "" then
      run(instruction)
      return
    end
    vim.ui.input({ prompt = "Ask " .. (agent or "the agent") .. ": " }, function(text)
      text = text and vim.trim(text) or ""
      if text ~= "" then
        run(text)
      end
    end)
  end)
end

function M.explain()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  commands["subagent-lsp.explain"]({
    command = "subagent-lsp.explain",
    arguments = { { uri = params.textDocument.uri, position = params.position } },
  }, { client_id = client.id, bufnr = bufnr })
end

-- :SubagentCancel
function M.cancel()
  if progress.cancel() == 0 then
    ui.notify("No agent is running.")
  end
end

-- :SubagentAccept and :SubagentDiscard
function M.accept()
  review.accept(answer_review)
end

function M.discard()
  review.discard(answer_review)
end

-- What the agents are doing, for a statusline: "" when nothing runs.
function M.status()
  return progress.status()
end

return M
