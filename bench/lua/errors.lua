-- Mix 4: 90 % good requests (half by id, half by e-mail) and 10 % meant to fail: 5 % an unknown
-- user (404, code 1001) and 5 % a user with PAC turned off (400, code 2024). Only responses other
-- than those count as errors. Unknown users carry a marker that the 404 message echoes back, so
-- a 404 for a real user still counts as an error.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids, emails, pac_off, bearers
local MARKER = "zzbenchunknown"

common.install({
  load = function()
    ids = common.env_lines("BENCH_IDS")
    emails = common.env_lines("BENCH_EMAILS")
    pac_off = common.env_lines("BENCH_PAC_OFF")
    bearers = common.bearers("BENCH_TOKENS")
  end,
  next = function()
    local roll = math.random(100)
    local user, intended
    if roll <= 5 then
      if roll <= 3 then
        user = MARKER .. math.random(1000000000)
      else
        user = MARKER .. math.random(1000000000) .. "@example.com"
      end
      intended = "unknown"
    elseif roll <= 10 then
      user, intended = common.pick(pac_off), "pac_off"
    elseif roll <= 55 then
      user = common.pick(ids)
    else
      user = common.pick(emails)
    end
    return "/v2/users/" .. user .. "/pac", common.pick(bearers), intended
  end,
  expected = function(status, body)
    if status == 404 then
      return body:find('"code"%s*:%s*1001') ~= nil and body:find(MARKER, 1, true) ~= nil
    end
    if status == 400 then
      return body:find('"code"%s*:%s*2024') ~= nil
    end
    return false
  end,
})
