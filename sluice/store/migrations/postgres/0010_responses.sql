-- Stored Responses API answers (store: true), each with the conversation before it, for
-- previous_response_id, GET and DELETE /v1/responses/{id}. owner is "tenant:<id>" or, for the
-- config's static keys, "key:<name>"; every lookup names it, so one tenant never reaches another's.
-- payload is the JSON of the answer and its input items, Fernet-encrypted when sealed.
CREATE TABLE responses (
    owner       TEXT NOT NULL,
    id          TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    payload     BYTEA NOT NULL,
    sealed      BOOLEAN NOT NULL,
    PRIMARY KEY (owner, id)
);
