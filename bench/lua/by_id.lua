-- Mix 1: a random user with PAC accounts, addressed by user id, with an admin token.
-- The baseline and Prism get this load too, so all three servers receive the same requests.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids, bearers

common.install({
  load = function()
    ids = common.env_lines("BENCH_IDS")
    bearers = common.bearers("BENCH_TOKENS")
  end,
  next = function()
    return "/v2/users/" .. common.pick(ids) .. "/pac", common.pick(bearers), nil
  end,
})
