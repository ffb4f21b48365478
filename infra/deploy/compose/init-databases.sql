-- the databases beside "naviyam" that the single-host stack's other services own
CREATE DATABASE dagster OWNER naviyam;
CREATE DATABASE mlflow OWNER naviyam;
CREATE DATABASE feast_registry OWNER naviyam;
