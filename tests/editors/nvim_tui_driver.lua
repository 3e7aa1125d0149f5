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
  wait_for("Neovim to listen", function()
    return vim.uv.fs_stat(sock) ~= nil
  end)
  rpc = vim.fn.sockconnect("pipe", sock, { rpc = true })
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
