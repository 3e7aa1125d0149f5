-- Drives the plugin as a user would: a real Neovim with its terminal UI runs in a terminal inside
-- this headless Neovim, which types keys into it, reads its screen, and asks it (over its RPC
-- socket) for its mode, buffers and messages. $SCENARIO names what to do; the result is written as
-- JSON to $RESULT.
local result = {}
local term_buf, term_job, rpc
-- Generous: the machine running the tests may be slow and busy.
local TIMEOUT = 60000

local function wait_for(what, predicate)
  if not vim.wait(TIMEOUT, predicate, 50) then
    error("timed out waiting for " .. what)
  end
end

-- What the user sees: the terminal's last screenful.
local function screen()
  local lines = vim.api.nvim_buf_get_lines(term_buf, 0, -1, false)
  local height = vim.api.nvim_win_get_height(vim.fn.bufwinid(term_buf))
  local first = math.max(#lines - height, 0)
  return vim.list_slice(lines, first + 1, #lines)
end

local function on_screen(text)
  for _, line in ipairs(screen()) do
    if line:find(text, 1, true) then
      return true
    end
  end
  return false
end

local function mode()
  return vim.rpcrequest(rpc, "nvim_get_mode")
end

-- Run Lua in the user's Neovim. At a prompt it would wait for the user: then that is the answer.
local function child(code, ...)
  if mode().blocking then
    local lines = screen()
    error("Neovim waits at a prompt: " .. (lines[#lines] or ""))
  end
  return vim.rpcrequest(rpc, "nvim_exec_lua", code, { ... })
end

-- Keys as typed, in Neovim's <> notation.
local function keys(text)
  vim.rpcrequest(rpc, "nvim_input", text)
end

-- Neovim in an 80x24 terminal, with the user's init (tests/editors/nvim_user.lua), on `file`.
local function start(file)
  vim.cmd.enew()
  term_buf = vim.api.nvim_get_current_buf()
  local sock = vim.fn.tempname() .. ".sock"
  term_job = vim.fn.jobstart({ vim.v.progpath, "-u", os.getenv("USER_INIT"), "-i", "NONE", "--listen", sock, file }, { term = true })
  -- The socket may exist a moment before Neovim accepts on it.
  wait_for("Neovim to listen", function()
    local ok, channel = pcall(vim.fn.sockconnect, "pipe", sock, { rpc = true })
    rpc = ok and channel ~= 0 and channel or nil
    return rpc ~= nil
  end)
  wait_for("the server to initialize", function()
    return child([[
      local c = vim.lsp.get_clients({ bufnr = 0, name = "subagent_lsp" })[1]
      return c ~= nil and c.initialized == true
    ]])
  end)
end

local function buffer_text()
  return child([[return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n") .. "\n"]])
end

local function messages()
  return child([[return vim.api.nvim_exec2("messages", { output = true }).output]])
end

-- Put the cursor on the first line with `needle`, at its start.
local function go_to(needle)
  return child([[
    local needle = ...
    for number, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
      local col = line:find(needle, 1, true)
      if col then
        vim.api.nvim_win_set_cursor(0, { number, col - 1 })
        return number
      end
    end
    error("not in the buffer: " .. needle)
  ]], needle)
end

-- Pick `title` from the vim.ui.select list on the screen by typing its number.
local function pick(title)
  local number
  wait_for("'" .. title .. "' in the list", function()
    for _, line in ipairs(screen()) do
      local n, text = line:match("^(%d+): (.*)$")
      if n and vim.startswith(text, title) then
        number = n
        return true
      end
    end
    return false
  end)
  keys(number .. "<CR>")
end

local scenarios = {}

local function current_line()
  return child([[return vim.api.nvim_get_current_line()]])
end

-- The message line at the bottom of the screen.
local function message_line()
  local lines = screen()
  return vim.trim(lines[#lines] or "")
end

local function tab_count()
  return child([[return #vim.api.nvim_list_tabpages()]])
end

-- What the user sees when the preview opened, with the tabs it made.
local function wait_for_preview()
  wait_for("the preview of the change", function()
    return on_screen("ga accept") and not mode().blocking
  end)
  return { screen = screen(), tabs = tab_count(), message = message_line() }
end

local function wait_for_message(text)
  wait_for("the message '" .. text .. "'", function()
    return not mode().blocking and vim.startswith(message_line(), text)
  end)
end

-- Run the code action `title` through Neovim's own `gra` (in whatever mode the user is in).
local function code_action(title)
  keys("gra")
  pick(title)
end

-- After a selection, `gra`, the preview and `ga`: the edit shown, in Normal mode, said once, and
-- `u` undoes it.
function scenarios.visual_action()
  start(os.getenv("ROUTE_FILE"))
  go_to(os.getenv("ACTION_AT"))
  local before = buffer_text()
  keys("Vj")
  code_action(os.getenv("ACTION_TITLE"))
  result.preview = wait_for_preview()
  keys("ga")
  wait_for("the edit drawn on the screen", function()
    return not mode().blocking and on_screen(os.getenv("EDITED_LINE"))
  end)
  wait_for_message(os.getenv("MESSAGE"))
  result.mode = mode()
  result.screen = screen()
  result.messages = messages()
  result.tabs = tab_count()
  result.edited = buffer_text()
  keys("u")
  wait_for("the undo", function()
    return buffer_text() == before
  end)
  result.mode_after_undo = mode()
end

-- A change to one file and a new one, looked at and discarded with `q` from the second file.
function scenarios.discard()
  start(os.getenv("ROUTE_FILE"))
  go_to(os.getenv("ACTION_AT"))
  local before = buffer_text()
  local window = child([[return vim.api.nvim_get_current_win()]])
  code_action(os.getenv("ACTION_TITLE"))
  result.preview = wait_for_preview()
  keys("gt")
  wait_for("the new file's tab", function()
    return on_screen("(new file)")
  end)
  result.second = screen()
  keys("q")
  wait_for_message(os.getenv("MESSAGE"))
  result.screen = screen()
  result.tabs = tab_count()
  result.back = child([[return vim.api.nvim_get_current_win()]]) == window
  result.unchanged = buffer_text() == before
  result.modified = child([[return vim.bo.modified]])
  result.new_file_buffer = child([[return vim.fn.bufexists(...) == 1]], os.getenv("NEW_FILE"))
end

-- The same change accepted with :SubagentAccept, then saved.
function scenarios.accept_command()
  start(os.getenv("ROUTE_FILE"))
  go_to(os.getenv("ACTION_AT"))
  local window = child([[return vim.api.nvim_get_current_win()]])
  code_action(os.getenv("ACTION_TITLE"))
  result.preview = wait_for_preview()
  keys(":SubagentAccept<CR>")
  wait_for_message(os.getenv("MESSAGE"))
  result.tabs = tab_count()
  result.back = child([[return vim.api.nvim_get_current_win()]]) == window
  keys(":wall<CR>")
  wait_for("the files written", function()
    return child([[
      for _, buf in ipairs(vim.api.nvim_list_bufs()) do
        if vim.bo[buf].modified then
          return false
        end
      end
      return true
    ]])
  end)
  result.screen = screen()
end

-- Progress in the statusline while the agent works, and :SubagentCancel.
function scenarios.cancel()
  start(os.getenv("ROUTE_FILE"))
  go_to(os.getenv("ACTION_AT"))
  local before = buffer_text()
  code_action(os.getenv("ACTION_TITLE"))
  wait_for("progress in the statusline", function()
    return child([[return require("subagent_lsp").status()]]):find("tokens", 1, true) ~= nil
  end)
  result.status = child([[return require("subagent_lsp").status()]])
  result.screen_running = screen()
  keys(":SubagentCancel<CR>")
  wait_for_message("Cancelled.")
  wait_for("the statusline cleared", function()
    return child([[return require("subagent_lsp").status()]]) == ""
  end)
  result.screen = screen()
  result.unchanged = buffer_text() == before
  result.mode = mode()
end

-- :SubagentAsk without an instruction: the agent picker (default first), then a prompt; the next
-- time the agent picked last comes first.
function scenarios.ask()
  start(os.getenv("ROUTE_FILE"))
  go_to(os.getenv("ASK_AT"))
  local before = buffer_text()
  keys(":SubagentAsk<CR>")
  pick(os.getenv("OTHER_AGENT"))
  result.first_list = screen()
  wait_for("the instruction prompt", function()
    return on_screen("Ask " .. os.getenv("OTHER_AGENT") .. ": ")
  end)
  keys(os.getenv("FIRST_INSTRUCTION") .. "<CR>")
  wait_for("the first edit", function()
    return not mode().blocking and buffer_text() ~= before
  end)
  wait_for_message(os.getenv("OTHER_AGENT") .. " changed")
  result.first_screen = screen()
  before = buffer_text()
  keys(":SubagentAsk " .. os.getenv("SECOND_INSTRUCTION") .. "<CR>")
  pick(os.getenv("OTHER_AGENT"))
  result.second_list = screen()
  wait_for("the second edit", function()
    return not mode().blocking and buffer_text() ~= before
  end)
  wait_for_message(os.getenv("OTHER_AGENT") .. " changed")
  result.screen = screen()
  result.messages = messages()
  result.text = buffer_text()
end

-- :SubagentExplain: the explanation in a float, and nothing to press.
function scenarios.explain()
  start(os.getenv("ROUTE_FILE"))
  go_to(os.getenv("HOVER_AT"))
  keys(":SubagentExplain<CR>")
  wait_for("the explanation in a float", function()
    return not mode().blocking and on_screen(os.getenv("EXPLANATION"))
  end)
  result.screen = screen()
  result.mode = mode()
  result.messages = messages()
  result.floats = child([[
    local floats = 0
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= "" then
        floats = floats + 1
      end
    end
    return floats
  ]])
end

-- A read-only agent's review becomes diagnostics; their quick fix runs the editing agent, whose
-- change is reviewed, accepted and saved.
function scenarios.review_fix()
  start(os.getenv("ROUTE_FILE"))
  go_to(os.getenv("ACTION_AT"))
  code_action(os.getenv("REVIEW_TITLE"))
  wait_for_message(os.getenv("REVIEW_MESSAGE"))
  result.review_screen = screen()
  local line = tonumber(os.getenv("FINDING_LINE"))
  wait_for("the finding as a diagnostic", function()
    return #child([[return vim.diagnostic.get(0, { lnum = ... })]], line - 1) > 0
  end)
  result.diagnostics = child([[
    return vim.tbl_map(function(d)
      return { source = d.source, message = d.message, lnum = d.lnum, end_lnum = d.end_lnum, severity = d.severity }
    end, vim.diagnostic.get(0))
  ]])
  child([[vim.api.nvim_win_set_cursor(0, { ..., 4 })]], line)
  keys("<C-w>d")
  wait_for("the finding in a float", function()
    return on_screen(os.getenv("FINDING_TEXT"))
  end)
  result.float_screen = screen()
  code_action(os.getenv("FIX_TITLE"))
  result.preview = wait_for_preview()
  keys("ga")
  wait_for_message(os.getenv("MESSAGE"))
  keys(":write<CR>")
  wait_for("the file written", function()
    return not child([[return vim.bo.modified]])
  end)
  result.screen = screen()
end

local ok, err = pcall(function()
  scenarios[os.getenv("SCENARIO")]()
end)
result.error = not ok and tostring(err) or nil
if not ok and term_buf then
  result.screen = screen()
end
if term_job then
  vim.fn.jobstop(term_job)
end
local file = assert(io.open(os.getenv("RESULT"), "w"))
file:write(vim.json.encode(result))
file:close()
vim.cmd("qa!")
