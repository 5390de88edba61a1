-- Try-out table for README "Your first data product". Run it as the warehouse's loader role:
--   docker compose exec -T db psql -U warehouse_loader -d warehouse -v ON_ERROR_STOP=1 \
--     < deploy/examples/marketing_signups.sql
-- A real pipeline loads its own table the same way; the GRANT at the end is what every table
-- the portal publishes needs. tests/deploy/test_stack.py runs this file.
CREATE TABLE marketing_signups (
  signup_id    text        NOT NULL,
  email        text        NOT NULL,
  country_code text        NOT NULL,
  signed_up_at timestamptz NOT NULL
);

INSERT INTO marketing_signups
SELECT format('sgn-%s', lpad(g::text, 5, '0')),
       format('subscriber%s@example.com', g),
       (ARRAY['US', 'GB', 'DE', 'FR', 'NL'])[1 + g % 5],
       now() - g * interval '7 minutes'
  FROM generate_series(1, 500) AS g;

-- The portal reads a table only once its reader role may:
GRANT SELECT ON marketing_signups TO warehouse_reader;
