-- +goose Up
-- Retell's custom analysis data is whatever the tenant's agent extracts:
-- it may hold a caller's name, so it is sealed like transcripts. The column
-- becomes binary; rows written before hold plain JSON, which the Store still
-- reads (ciphertexts start with a version byte, JSON with '{' or '[').
ALTER TABLE calls MODIFY custom_analysis MEDIUMBLOB NULL;

-- +goose Down
ALTER TABLE calls MODIFY custom_analysis JSON NULL;
