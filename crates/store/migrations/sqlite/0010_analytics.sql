-- The v3 call-analytics sections of plain media (`spotting`, `categories`,
-- `knowledge`), as one JSON object whose members go at the top level of the
-- media document. Encrypted media keep them only inside their encrypted
-- result document.
alter table media add column analytics text;
