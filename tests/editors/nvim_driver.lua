-- Drives real headless Neovim through the plugin, as a user would, and records what happened.
-- Paths come from the environment; the result is written as JSON to $RESULT.
local result = { steps = {} }

local function finish(err)
  result.error = err
  local file = assert(io.open(os.getenv("RESULT"), "w"))
  file:write(vim.json.encode(result))
  file:close()
  vim.cmd("qa!")
end

local function buffer_text()
  return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n") .. "\n"
end

local function wait_for(what, predicate)
  if not vim.wait(20000, predicate, 20) then
    error("timed out waiting for " .. what)
  end
end

-- The agent's change opens for review in a tab of its own: accept it, as `ga` there would.
local function accept_review()
  wait_for("the change to review", function()
    return #vim.api.nvim_list_tabpages() > 1
  end)
  vim.cmd("SubagentAccept")
end

local function find_line(needle)
  for number, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    local col = line:find(needle, 1, true)
    if col then
      return number, col - 1
    end
  end
  error("not in the buffer: " .. needle)
end

local ok, err = pcall(function()
  vim.opt.rtp:prepend(os.getenv("PLUGIN_DIR"))
  vim.cmd("filetype on")
  vim.cmd("runtime! plugin/subagent_lsp.lua")
  vim.lsp.config("subagent_lsp", { cmd = { os.getenv("PYTHON"), "-m", "subagent_lsp" } })
  vim.lsp.enable("subagent_lsp")

  vim.cmd.edit(os.getenv("ROUTE_FILE"))
  wait_for("the client to attach", function()
    return #vim.lsp.get_clients({ bufnr = 0, name = "subagent_lsp" }) > 0
  end)
  local client = vim.lsp.get_clients({ bufnr = 0, name = "subagent_lsp" })[1]
  wait_for("initialization", function()
    return client.initialized
  end)

  -- 1. A code action at the cursor (an empty range, as Neovim sends), applied by Neovim itself.
  local row, col = find_line(os.getenv("ACTION_AT"))
  vim.api.nvim_win_set_cursor(0, { row, col })
  local before = buffer_text()
  local titles = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      table.insert(titles, action.title)
      return action.title == os.getenv("ACTION_TITLE")
    end,
  })
  accept_review()
  wait_for("the action's edit", function()
    return buffer_text() ~= before
  end)
  vim.cmd.write()
  table.insert(result.steps, { step = "code action", titles = titles })

  -- 2. :SubagentAsk on a range of lines.
  local first = find_line(os.getenv("ASK_FROM"))
  before = buffer_text()
  vim.cmd(string.format("%d,%dSubagentAsk %s", first, first + 1, os.getenv("ASK_INSTRUCTION")))
  accept_review()
  wait_for("the ask edit", function()
    return buffer_text() ~= before
  end)
  vim.cmd.write()
  table.insert(result.steps, { step = "ask" })

  -- 3. Hover on a route registration: the facts at once, then the plugin shows the hover again
  -- when the server says the explanation has landed, with the cursor still there.
  row, col = find_line(os.getenv("HOVER_AT"))
  vim.api.nvim_win_set_cursor(0, { row, col + 2 })
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local responses = vim.lsp.buf_request_sync(0, "textDocument/hover", params, 20000)
  local response = responses and responses[client.id]
  result.first_hover = response and response.result and response.result.contents.value or vim.NIL
  local shown
  wait_for("the hover shown again with the explanation", function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= "" then
        local text = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false), "\n")
        if text:find(os.getenv("EXPLANATION"), 1, true) then
          shown = text
          return true
        end
      end
    end
    return false
  end)
  result.hover = shown
  result.offset_encoding = client.offset_encoding

  -- 4. A hint from the code's facts, fixed through its quick fix.
  local fix_row = find_line(os.getenv("FIX_AT"))
  local hint
  wait_for("the hint on the unvalidated body", function()
    for _, diagnostic in ipairs(vim.diagnostic.get(0, { lnum = fix_row - 1 })) do
      if diagnostic.source == "subagent-lsp" then
        hint = diagnostic.message
        return true
      end
    end
    return false
  end)
  vim.api.nvim_win_set_cursor(0, { fix_row, 4 })
  before = buffer_text()
  local fixes = {}
  vim.lsp.buf.code_action({
    apply = true,
    context = { only = { "quickfix" } },
    filter = function(action)
      table.insert(fixes, action.title)
      return action.title == os.getenv("FIX_TITLE")
    end,
  })
  accept_review()
  wait_for("the quick fix's edit", function()
    return buffer_text() ~= before
  end)
  vim.cmd.write()
  table.insert(result.steps, { step = "quick fix", hint = hint, titles = fixes })
end)

finish(not ok and tostring(err) or nil)
