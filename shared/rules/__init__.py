"""Pure rules every service shares: rule violations, durations, workdays, subjects, time.

Nothing here imports FastAPI, SQLAlchemy or Kafka: domain code and the SDK import only this.
"""
