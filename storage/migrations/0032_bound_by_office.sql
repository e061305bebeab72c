-- An account's last use (`identities.last_seen_at`) is now written when the person binds it themselves, and left
-- empty when the office binds it for them (a WeCom member it added to the corp): notices go to the account the
-- person used last, and an account the office bound has not been used until its person writes from it (issue 14).
-- Until now a binding of either kind counted as a use, read as COALESCE(last_seen_at, bound_at): the accounts
-- bound so far keep that order.
UPDATE identities SET last_seen_at = bound_at WHERE last_seen_at IS NULL;
