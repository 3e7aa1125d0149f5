-- How the plugin talks to the user: one line per message, Visual mode left and the screen redrawn
-- when an edit lands.
local M = {}

-- Neovim's own vim.notify echoes; a replacement (nvim-notify, noice, fidget) shows more.
local function notify_is_builtin()
  local info = debug.getinfo(vim.notify, "S")
  return info ~= nil and info.source:find("vim/_editor.lua", 1, true) ~= nil
end

-- `text` on one line that fits the command line without a "Press ENTER" prompt.
function M.one_line(text)
  local line = vim.trim((text:gsub("%s+", " ")))
  local room = math.max(vim.v.echospace, 12)
  if vim.fn.strdisplaywidth(line) <= room then
    return line
  end
  local chars = room - 1
  local short = vim.fn.strcharpart(line, 0, chars)
  while chars > 0 and vim.fn.strdisplaywidth(short) > room - 1 do
    chars = chars - 1
    short = vim.fn.strcharpart(line, 0, chars)
  end
  return short .. "…"
end

local HIGHLIGHT = {
  [vim.log.levels.ERROR] = "ErrorMsg",
  [vim.log.levels.WARN] = "WarningMsg",
}

-- One message: whole through a vim.notify replacement, else one line in the message history.
function M.notify(text, level)
  level = level or vim.log.levels.INFO
  if not notify_is_builtin() then
    vim.notify(text, level, { title = "subagent-lsp" })
    return
  end
  vim.api.nvim_echo({ { M.one_line(text), HIGHLIGHT[level] } }, true, {})
end

-- A passing note (progress): one line, not kept in the message history, never over the command
-- line the user is typing in.
function M.note(text)
  if vim.api.nvim_get_mode().mode:sub(1, 1) == "c" then
    return
  end
  vim.api.nvim_echo({ { M.one_line(text) } }, false, {})
end

-- Leave Visual or Select mode, as after any command that acted on the selection.
function M.leave_visual()
  local mode = vim.api.nvim_get_mode().mode
  if mode:match("^[vVsS\22\19]") then
    vim.api.nvim_feedkeys(vim.keycode("<Esc>"), "nx", false)
  end
end

return M
