//! Booking events onto the stack's EventBridge bus (`EVENT_BUS_NAME`), where the template's
//! rule sends absences and cancellations of the next two days to the staff's SNS topic, and
//! a city may add rules of its own.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::reservations::events::{BookingEvent, EVENT_SOURCE, EventSink};

/// EventBridge takes at most this many entries in one `PutEvents`.
const ENTRIES_PER_REQUEST: usize = 10;

#[derive(Clone)]
pub struct EventBridgeEvents {
    client: Client,
    bus: String,
}

impl EventBridgeEvents {
    pub fn from_config(
        config: &aws_config::SdkConfig,
        bus: impl Into<String>,
    ) -> EventBridgeEvents {
        EventBridgeEvents {
            client: Client::new(config),
            bus: bus.into(),
        }
    }
}

impl EventSink for EventBridgeEvents {
    async fn publish(&self, events: &[BookingEvent]) -> Result<(), String> {
        for chunk in events.chunks(ENTRIES_PER_REQUEST) {
            let entries = chunk
                .iter()
                .map(|e| {
                    let detail = serde_json::to_string(e).map_err(|e| e.to_string())?;
                    Ok(PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(EVENT_SOURCE)
                        .detail_type(e.kind.detail_type())
                        .detail(detail)
                        .build())
                })
                .collect::<Result<Vec<_>, String>>()?;
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "PutEvents failed: {}",
                        aws_sdk_eventbridge::error::DisplayErrorContext(e)
                    )
                })?;
            if out.failed_entry_count() > 0 {
                let codes: Vec<&str> = out
                    .entries()
                    .iter()
                    .filter_map(|r| r.error_code())
                    .collect();
                return Err(format!(
                    "EventBridge refused {} of {} events: {}",
                    out.failed_entry_count(),
                    chunk.len(),
                    codes.join(", ")
                ));
            }
        }
        Ok(())
    }
}
