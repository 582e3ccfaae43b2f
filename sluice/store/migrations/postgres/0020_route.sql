-- Auto aliases (sluice.routing.auto): the tier a request went to and why, as the x-sluice-route
-- header says it ("strong; reason=tools"); NULL for requests to other aliases.
ALTER TABLE request_log ADD COLUMN route TEXT;
