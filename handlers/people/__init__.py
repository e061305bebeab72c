"""Who may use the bot (SPEC §2): binding a chat account, taking access away, WeCom accounts and /view."""
