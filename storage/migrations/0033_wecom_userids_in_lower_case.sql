-- WeCom userids are not case-sensitive (90236: "不区分大小写，统一转为小写"): the bot now keeps them, and reads
-- callbacks' FromUserName, in lower case, so that a member the office bound as "ZhangSan" is the member WeCom
-- reports as "zhangsan" (bot/channels/wecom.py member_of). What was kept before is put in lower case too: the
-- accounts, the dialogues under way, the cards that may still be pressed and the messages still to send. Two
-- accounts (or dialogues) differing only in case, one member twice, are left as they are, for the office to see
-- to: lowered, they would be one key twice.
UPDATE identities SET external_id = lower(external_id), chat_id = lower(chat_id)
 WHERE channel = 'wecom' AND (external_id <> lower(external_id) OR chat_id <> lower(chat_id))
   AND NOT EXISTS (SELECT 1 FROM identities o WHERE o.channel = 'wecom'
                   AND lower(o.external_id) = lower(identities.external_id) AND o.external_id <> identities.external_id);
UPDATE dialogs SET actor = lower(actor)
 WHERE actor LIKE 'wecom:%' AND actor <> lower(actor)
   AND NOT EXISTS (SELECT 1 FROM dialogs o WHERE lower(o.actor) = lower(dialogs.actor) AND o.actor <> dialogs.actor);
UPDATE wecom_cards SET userid = lower(userid) WHERE userid <> lower(userid) AND chosen_at IS NULL;
UPDATE outbox SET chat_id = lower(chat_id)
 WHERE channel = 'wecom' AND chat_id <> lower(chat_id) AND state IN ('pending', 'held', 'sending');
