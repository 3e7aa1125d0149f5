-- An agent's change before it lands: a tab per file with the current text and the proposed text
-- side by side in diff mode, the file and the change in the winbars, the keys in the statusline;
-- `ga` accepts, `gr` or `q` rejects (also :SubagentAccept and :SubagentDiscard). Nothing touches the file or its buffer until the server is told to apply.
local ui = require("subagent_lsp.ui")

local M = {}

M.keys = { accept = { "ga" }, reject = { "gr", "q" } }

-- Proposals shown, by id: { id, client_id, label, agent, tabs, buffers, origin }.
local shown = {}
local newest = {}

local function lines_of(text)
  if text == nil or text == vim.NIL or text == "" then
    return {}
  end
  local lines = vim.split(text, "\r?\n")
  if lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

local function scratch(name, text, path)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines_of(text))
  pcall(vim.api.nvim_buf_set_name, buf, name)
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].modifiable = false
  local filetype = vim.filetype.match({ filename = path })
  if filetype then
    vim.bo[buf].filetype = filetype
  end
  return buf
end

-- A winbar of `text` cut to the window's width (a statusline string: "%" doubled).
local function winbar(win, text)
  local room = vim.api.nvim_win_get_width(win) - 2
  if vim.fn.strdisplaywidth(text) > room then
    text = vim.fn.strcharpart(text, 0, math.max(room - 1, 0)) .. "…"
  end
  return " " .. text:gsub("%%", "%%%%")
end

local function keys_help()
  return table.concat(M.keys.accept, "/") .. " accept · " .. table.concat(M.keys.reject, "/") .. " reject"
end

local function close(proposal)
  shown[proposal.id] = nil
  newest = vim.tbl_filter(function(id)
    return id ~= proposal.id
  end, newest)
  for _, tab in ipairs(proposal.tabs) do
    if vim.api.nvim_tabpage_is_valid(tab) and #vim.api.nvim_list_tabpages() > 1 then
      vim.cmd.tabclose(vim.api.nvim_tabpage_get_number(tab))
    end
  end
  for _, buf in ipairs(proposal.buffers) do
    if vim.api.nvim_buf_is_valid(buf) then
      vim.api.nvim_buf_delete(buf, { force = true })
    end
  end
  if vim.api.nvim_win_is_valid(proposal.origin) then
    vim.api.nvim_set_current_win(proposal.origin)
  end
end

-- The proposal to answer: the one whose preview is in the current tab, else the newest.
local function current()
  local tab = vim.api.nvim_get_current_tabpage()
  for _, proposal in pairs(shown) do
    if vim.tbl_contains(proposal.tabs, tab) then
      return proposal
    end
  end
  local id = newest[#newest]
  return id and shown[id] or nil
end

local function answer(proposal, command, on_result)
  close(proposal)
  local client = vim.lsp.get_client_by_id(proposal.client_id)
  if not client then
    ui.notify("subagent-lsp has stopped: " .. proposal.label .. " was not applied", vim.log.levels.WARN)
    return
  end
  on_result(client, command, proposal.id)
end

-- `run(client, command, id)` sends the answer; the plugin's init passes its executor.
function M.accept(run)
  local proposal = current()
  if not proposal then
    ui.notify("No agent change is waiting for review.", vim.log.levels.WARN)
    return
  end
  answer(proposal, "subagent-lsp.acceptEdit", run)
end

function M.discard(run)
  local proposal = current()
  if not proposal then
    ui.notify("No agent change is waiting for review.", vim.log.levels.WARN)
    return
  end
  answer(proposal, "subagent-lsp.discardEdit", run)
end

-- The `subagent-lsp/reviewEdit` notification: open the preview.
function M.show(params, client_id, run)
  ui.leave_visual()
  local proposal = {
    id = params.id,
    client_id = client_id,
    label = params.label or "the agent's change",
    agent = params.agent,
    tabs = {},
    buffers = {},
    origin = vim.api.nvim_get_current_win(),
  }
  local files = params.files or {}
  for index, file in ipairs(files) do
    local path = file.path or vim.uri_to_fname(file.uri)
    local new = file.original == nil or file.original == vim.NIL
    local prefix = string.format("subagent-lsp://%s/", params.id)
    local before = scratch(prefix .. "now/" .. path, file.original, path)
    local after = scratch(prefix .. "proposed/" .. path, file.proposed, path)
    vim.list_extend(proposal.buffers, { before, after })

    vim.cmd.tabnew()
    local placeholder = vim.api.nvim_get_current_buf()
    local left = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(left, before)
    if vim.api.nvim_buf_is_valid(placeholder) and placeholder ~= before then
      vim.api.nvim_buf_delete(placeholder, { force = true })
    end
    vim.cmd.diffthis()
    vim.cmd("rightbelow vsplit")
    local right = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(right, after)
    vim.cmd.diffthis()
    table.insert(proposal.tabs, vim.api.nvim_get_current_tabpage())

    local count = #files > 1 and string.format("[%d/%d] ", index, #files) or ""
    vim.wo[left].winbar = winbar(left, path .. (new and " (new file)" or " (now)"))
    vim.wo[right].winbar = winbar(right, count .. proposal.label)
    vim.wo[left].statusline = " " .. keys_help() .. "%<"
    vim.wo[right].statusline = " :SubagentAccept · :SubagentDiscard%<"
    for _, buf in ipairs({ before, after }) do
      for _, lhs in ipairs(M.keys.accept) do
        vim.keymap.set("n", lhs, function()
          M.accept(run)
        end, { buffer = buf, nowait = true, desc = "Accept the agent's change" })
      end
      for _, lhs in ipairs(M.keys.reject) do
        vim.keymap.set("n", lhs, function()
          M.discard(run)
        end, { buffer = buf, nowait = true, desc = "Discard the agent's change" })
      end
    end
  end
  if #proposal.tabs == 0 then
    return
  end
  shown[proposal.id] = proposal
  table.insert(newest, proposal.id)
  -- The first file's tab is the one the user starts from.
  vim.api.nvim_set_current_tabpage(proposal.tabs[1])
  local summary = params.summary and params.summary ~= vim.NIL and params.summary ~= "" and params.summary
    or proposal.label
  ui.notify((params.agent or "agent") .. ": " .. summary)
end

return M
