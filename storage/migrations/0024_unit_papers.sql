-- Each unit's papers (issue 17, docs/design-units.md): the half-year report a county sends up carries its own
-- document number, addressee, issuer, signer, copies and regulation title. NULL is the deployment's, from the
-- [report] and [terms] sections of the configuration (always so for unit 1, which those sections describe).
ALTER TABLE units ADD COLUMN document_number TEXT;  -- 发文字号, {year} the year drawn: 灵检〔{year}〕　号
ALTER TABLE units ADD COLUMN addressee TEXT;        -- 主送机关
ALTER TABLE units ADD COLUMN issuer TEXT;           -- 印发机关
ALTER TABLE units ADD COLUMN signer TEXT;           -- 签发人
ALTER TABLE units ADD COLUMN copy_to TEXT;          -- 抄送机关
ALTER TABLE units ADD COLUMN regulation TEXT;       -- the title of the unit's own liaison regulation
