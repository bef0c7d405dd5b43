//! Postback data of the 予約 flow: `v1:rsv:…`. Slots travel as [`SlotRef::token`] (no `:`),
//! bookings by their 予約番号, so every field parses on its own and stays well inside LINE's
//! 300 characters.

use crate::reservations::{AbsenceReason, BookingFor, BookingId, ServiceId, SlotRef};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveCommand {
    /// The services this resident may book.
    Menu,
    /// The next open dates of a service, with their times, for one of the resident's
    /// registrations.
    Dates {
        service: ServiceId,
        booked_for: BookingFor,
    },
    /// A time was tapped: confirm before booking.
    Pick {
        slot: SlotRef,
        booked_for: BookingFor,
    },
    /// 予約する, confirmed.
    Book {
        slot: SlotRef,
        booked_for: BookingFor,
    },
    /// 予約の確認.
    List,
    CancelAsk(BookingId),
    CancelConfirm(BookingId),
    /// 変更: the other open dates of the booking's service.
    ChangeDates(BookingId),
    MoveAsk {
        booking: BookingId,
        slot: SlotRef,
    },
    MoveConfirm {
        booking: BookingId,
        slot: SlotRef,
    },
    /// 欠席連絡: ask the reason.
    AbsentAsk(BookingId),
    Absent {
        booking: BookingId,
        reason: AbsenceReason,
    },
    /// キャンセル待ちに登録: join a full slot's waiting list.
    Wait {
        slot: SlotRef,
        booked_for: BookingFor,
    },
    /// Leave a waiting list, or decline the seat it offered (辞退).
    Unwait {
        slot: SlotRef,
        booked_for: BookingFor,
    },
    /// 予約する on a waiting list's offer: the seat held for this registration.
    TakeOffer {
        slot: SlotRef,
        booked_for: BookingFor,
    },
}

fn reason_code(r: AbsenceReason) -> &'static str {
    match r {
        AbsenceReason::Illness => "ill",
        AbsenceReason::Inconvenient => "busy",
        AbsenceReason::Other => "other",
    }
}

impl ReserveCommand {
    /// The data after `v1:`.
    pub fn body(&self) -> String {
        match self {
            ReserveCommand::Menu => "rsv".into(),
            ReserveCommand::Dates {
                service,
                booked_for,
            } => format!("rsv:svc:{service}:{}", booked_for.as_str()),
            ReserveCommand::Pick { slot, booked_for } => {
                format!("rsv:pick:{}:{}", slot.token(), booked_for.as_str())
            }
            ReserveCommand::Book { slot, booked_for } => {
                format!("rsv:book:{}:{}", slot.token(), booked_for.as_str())
            }
            ReserveCommand::List => "rsv:list".into(),
            ReserveCommand::CancelAsk(id) => format!("rsv:cx:{id}"),
            ReserveCommand::CancelConfirm(id) => format!("rsv:cx-ok:{id}"),
            ReserveCommand::ChangeDates(id) => format!("rsv:mv:{id}"),
            ReserveCommand::MoveAsk { booking, slot } => {
                format!("rsv:mv-pick:{booking}:{}", slot.token())
            }
            ReserveCommand::MoveConfirm { booking, slot } => {
                format!("rsv:mv-ok:{booking}:{}", slot.token())
            }
            ReserveCommand::AbsentAsk(id) => format!("rsv:ab:{id}"),
            ReserveCommand::Absent { booking, reason } => {
                format!("rsv:ab-ok:{booking}:{}", reason_code(*reason))
            }
            ReserveCommand::Wait { slot, booked_for } => {
                format!("rsv:wait:{}:{}", slot.token(), booked_for.as_str())
            }
            ReserveCommand::Unwait { slot, booked_for } => {
                format!("rsv:unwait:{}:{}", slot.token(), booked_for.as_str())
            }
            ReserveCommand::TakeOffer { slot, booked_for } => {
                format!("rsv:take:{}:{}", slot.token(), booked_for.as_str())
            }
        }
    }

    /// Parses the data after `v1:` (`None`: not a 予約 button, or a broken one).
    pub fn parse(body: &str) -> Option<ReserveCommand> {
        let mut parts = body.split(':');
        if parts.next()? != "rsv" {
            return None;
        }
        let kind = parts.next();
        let fields: Vec<&str> = parts.collect();
        let slot = |s: &str| SlotRef::from_token(s);
        let id = |s: &str| BookingId::parse(s);
        let whom = |s: &str| BookingFor::parse(s);
        Some(match (kind, fields.as_slice()) {
            (None, []) => ReserveCommand::Menu,
            (Some("list"), []) => ReserveCommand::List,
            (Some("svc"), [service, who]) => ReserveCommand::Dates {
                service: ServiceId::parse(service)?,
                booked_for: whom(who)?,
            },
            (Some("pick"), [s, who]) => ReserveCommand::Pick {
                slot: slot(s)?,
                booked_for: whom(who)?,
            },
            (Some("book"), [s, who]) => ReserveCommand::Book {
                slot: slot(s)?,
                booked_for: whom(who)?,
            },
            (Some("wait"), [s, who]) => ReserveCommand::Wait {
                slot: slot(s)?,
                booked_for: whom(who)?,
            },
            (Some("unwait"), [s, who]) => ReserveCommand::Unwait {
                slot: slot(s)?,
                booked_for: whom(who)?,
            },
            (Some("take"), [s, who]) => ReserveCommand::TakeOffer {
                slot: slot(s)?,
                booked_for: whom(who)?,
            },
            (Some("cx"), [b]) => ReserveCommand::CancelAsk(id(b)?),
            (Some("cx-ok"), [b]) => ReserveCommand::CancelConfirm(id(b)?),
            (Some("mv"), [b]) => ReserveCommand::ChangeDates(id(b)?),
            (Some("mv-pick"), [b, s]) => ReserveCommand::MoveAsk {
                booking: id(b)?,
                slot: slot(s)?,
            },
            (Some("mv-ok"), [b, s]) => ReserveCommand::MoveConfirm {
                booking: id(b)?,
                slot: slot(s)?,
            },
            (Some("ab"), [b]) => ReserveCommand::AbsentAsk(id(b)?),
            (Some("ab-ok"), [b, r]) => ReserveCommand::Absent {
                booking: id(b)?,
                reason: match *r {
                    "ill" => AbsenceReason::Illness,
                    "busy" => AbsenceReason::Inconvenient,
                    "other" => AbsenceReason::Other,
                    _ => return None,
                },
            },
            _ => return None,
        })
    }

    /// The booking this command is about, if any (the handler loads its service's slots).
    pub fn booking(&self) -> Option<&BookingId> {
        match self {
            ReserveCommand::CancelAsk(id)
            | ReserveCommand::CancelConfirm(id)
            | ReserveCommand::ChangeDates(id)
            | ReserveCommand::AbsentAsk(id)
            | ReserveCommand::MoveAsk { booking: id, .. }
            | ReserveCommand::MoveConfirm { booking: id, .. }
            | ReserveCommand::Absent { booking: id, .. } => Some(id),
            _ => None,
        }
    }

    /// The service whose slots this command needs, when the command names it.
    pub fn service(&self) -> Option<&ServiceId> {
        match self {
            ReserveCommand::Dates { service, .. } => Some(service),
            ReserveCommand::Pick { slot, .. }
            | ReserveCommand::Book { slot, .. }
            | ReserveCommand::Wait { slot, .. }
            | ReserveCommand::Unwait { slot, .. }
            | ReserveCommand::TakeOffer { slot, .. }
            | ReserveCommand::MoveAsk { slot, .. }
            | ReserveCommand::MoveConfirm { slot, .. } => Some(&slot.service),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservation_data_round_trips_and_refuses_tampering() {
        let slot = SlotRef::parse("checkup-4m@2027-01-15T13:30").expect("slot");
        let id = BookingId::derive("x");
        let child = BookingFor::parse("c2").expect("child");
        let all = [
            ReserveCommand::Menu,
            ReserveCommand::List,
            ReserveCommand::Dates {
                service: slot.service.clone(),
                booked_for: child.clone(),
            },
            ReserveCommand::Pick {
                slot: slot.clone(),
                booked_for: child.clone(),
            },
            ReserveCommand::Book {
                slot: slot.clone(),
                booked_for: BookingFor::parse("resident").expect("r"),
            },
            ReserveCommand::CancelAsk(id.clone()),
            ReserveCommand::CancelConfirm(id.clone()),
            ReserveCommand::ChangeDates(id.clone()),
            ReserveCommand::MoveAsk {
                booking: id.clone(),
                slot: slot.clone(),
            },
            ReserveCommand::MoveConfirm {
                booking: id.clone(),
                slot: slot.clone(),
            },
            ReserveCommand::AbsentAsk(id.clone()),
            ReserveCommand::Absent {
                booking: id.clone(),
                reason: AbsenceReason::Inconvenient,
            },
            ReserveCommand::Wait {
                slot: slot.clone(),
                booked_for: child.clone(),
            },
            ReserveCommand::Unwait {
                slot: slot.clone(),
                booked_for: child.clone(),
            },
            ReserveCommand::TakeOffer {
                slot: slot.clone(),
                booked_for: child.clone(),
            },
        ];
        for c in all {
            assert_eq!(
                ReserveCommand::parse(&c.body()),
                Some(c.clone()),
                "{}",
                c.body()
            );
            assert!(c.body().len() < 100);
        }
        for bad in [
            "rsv:svc:checkup",
            "rsv:svc:checkup:someone",
            "rsv:pick:checkup@2027011513:c1",
            "rsv:book:checkup@202702301330:c1",
            "rsv:cx:abc",
            "rsv:ab-ok:ABCDEFGH:bored",
            "rsv:list:x",
            "rsv:wait:checkup@202701151330",
            "rsv:take:checkup@202701151330:nobody",
            "rsvp",
        ] {
            assert_eq!(ReserveCommand::parse(bad), None, "{bad}");
        }
    }
}
