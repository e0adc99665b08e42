"""Write stage: apply a run's planned changes to Emply and Entra, each outcome recorded once."""
