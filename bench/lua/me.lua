-- Mix 3: `me` with user-level tokens, each minted for a different user with PAC accounts.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local bearers

common.install({
  load = function()
    bearers = common.bearers("BENCH_USER_TOKENS")
  end,
  next = function()
    return "/v2/users/me/pac", common.pick(bearers), nil
  end,
})
