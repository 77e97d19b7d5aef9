-- Mix 2: a random user with PAC accounts, addressed by e-mail in a letter case that differs from
-- the stored one, with an admin token.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local emails, bearers

common.install({
  load = function()
    emails = common.env_lines("BENCH_EMAILS")
    bearers = common.bearers("BENCH_TOKENS")
  end,
  next = function()
    return "/v2/users/" .. common.pick(emails) .. "/pac", common.pick(bearers), nil
  end,
})
